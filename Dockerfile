# One image for every service's API and stream worker; the command picks which process runs.
# The dashboard's ECharts bundle comes from npm (package-lock.json), like in a checkout.
FROM node:20-slim AS dashboard-assets
WORKDIR /assets
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

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
COPY --from=dashboard-assets /assets/node_modules/echarts/dist/echarts.min.js /app/assets/echarts.min.js
USER prt
ENV PRT_FAUST_DATA_DIR=/var/lib/prt/faust PRT_REPORTING_ECHARTS_PATH=/app/assets/echarts.min.js
EXPOSE 8000
CMD ["uvicorn", "services.intake.http_api.app:app", "--host", "0.0.0.0", "--port", "8000"]
