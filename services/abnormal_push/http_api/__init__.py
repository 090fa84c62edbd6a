"""Abnormal push's HTTP edge. Run: uvicorn services.abnormal_push.http_api.app:app"""
