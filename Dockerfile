# One image for every service's API and stream worker; the command picks which process runs.
FROM python:3.11-slim

WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY deploy/python/constraints.txt deploy/python/constraints.txt
COPY pyproject.toml ./
COPY generated generated
COPY services services
RUN pip install --no-cache-dir -c deploy/python/constraints.txt . \
    && useradd --system --uid 10001 prt \
    && mkdir -p /var/lib/prt/faust && chown prt /var/lib/prt/faust
USER prt
ENV PRT_FAUST_DATA_DIR=/var/lib/prt/faust
EXPOSE 8000
CMD ["uvicorn", "services.intake.http_api.app:app", "--host", "0.0.0.0", "--port", "8000"]
