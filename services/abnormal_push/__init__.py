"""Abnormal push: abnormal-behaviour information (异常行为信息) pushed among the 12 departments,
signed for and answered, plus automatic detection of collusion signals."""
