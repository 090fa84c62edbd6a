"""Remote evaluation's HTTP edge. Run: uvicorn services.remote_eval.http_api.app:app"""
