# One image for both processes of the assistant:
#   docker run IMAGE rasa      -> Rasa server with the channels of credentials.yml
#   docker run IMAGE actions   -> the action server
# The model is trained at build time from the project's data.
FROM python:3.10-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    SQLALCHEMY_SILENCE_UBER_WARNING=1

RUN apt-get update \
    && apt-get install -y --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 1001 chatcun

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY --chown=chatcun . .
USER chatcun
RUN rasa train --fixed-model-name chatcun --out models

EXPOSE 5005 5055
ENTRYPOINT ["docker/entrypoint.sh"]
CMD ["rasa"]
