"""Online numbers: searching the provider's stock, buying, and releasing them."""

from organizations.models import Organization


def number_provision(*, organization: Organization, subscription_id: int) -> None:
    """Buy the number of a `provisioning` subscription; to be written (numbers work)."""
    raise NotImplementedError
