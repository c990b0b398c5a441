# Sourced by the other scripts. Rasa stops at start when a ${VAR} of
# endpoints.yml is undefined, so the optional settings of the escalation
# worker get an empty value (which turns the option off) unless set.
for name in ESCALATION_URL ESCALATION_SECRET ESCALATION_WHATSAPP_TO SMTP_URL \
  CASE_WEBHOOK_SECRET; do
  export "$name=${!name-}"
done
