"""Intake's HTTP edge (FastAPI). Run: uvicorn services.intake.http_api.app:app"""
