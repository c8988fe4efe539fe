"""The interface every SMS backend implements."""

from skypemgr.sms import SmsMessage


class BaseSmsBackend:
    def send(self, message: SmsMessage) -> str:
        """Deliver the message; return the provider's id; raise SmsError on failure."""
        raise NotImplementedError
