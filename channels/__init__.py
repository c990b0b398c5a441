"""Messaging channels of ChatCun.

`channels.whatsapp.WhatsAppInput` is the WhatsApp channel through Twilio.
`channels.phone.normalize_phone` gives the E.164 form under which each
citizen's conversation is stored; it needs no Rasa import.
"""
