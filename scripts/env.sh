# Sourced by the other scripts. Rasa stops at start when a ${VAR} of
# credentials.yml or endpoints.yml is undefined, so optional settings get an
# empty value, which selects their default or turns the option off.
for name in ESCALATION_URL ESCALATION_SECRET ESCALATION_WHATSAPP_TO SMTP_URL \
  CASE_WEBHOOK_SECRET TWILIO_ACCOUNT_SID TWILIO_AUTH_TOKEN TWILIO_WHATSAPP_NUMBER \
  WHATSAPP_VALIDATE_SIGNATURE WHATSAPP_PUBLIC_BASE_URL TWILIO_API_BASE_URL \
  WHATSAPP_MEDIA_DIR REDIS_URL; do
  export "$name=${!name-}"
done
