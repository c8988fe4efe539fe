from tests.subscriptions.twilio_fake import twilio_numbers  # noqa: F401 (a fixture)
