"""Notices of wallets that went down, coalesced in Redis: one pending task per organization,
and nothing noted is lost between a note and the task taking the notes."""

from credit.services.dropped import dropped_note, dropped_take


def test_the_first_note_asks_for_the_task_and_later_ones_add_to_it():
    assert dropped_note(organization_id=1, account_ids=[5, 3], kinds=["usage"]) is True
    assert dropped_note(organization_id=1, account_ids=[3, 9], kinds=["allocation"]) is False

    assert dropped_take(organization_id=1) == ([3, 5, 9], ["allocation", "usage"])


def test_after_the_task_took_the_notes_the_next_note_asks_again():
    dropped_note(organization_id=1, account_ids=[5], kinds=["usage"])
    dropped_take(organization_id=1)

    assert dropped_take(organization_id=1) == ([], [])
    assert dropped_note(organization_id=1, account_ids=[7], kinds=["take_back"]) is True
    assert dropped_take(organization_id=1) == ([7], ["take_back"])


def test_organizations_are_noted_apart():
    assert dropped_note(organization_id=1, account_ids=[5], kinds=["usage"]) is True
    assert dropped_note(organization_id=2, account_ids=[6], kinds=["allocation"]) is True

    assert dropped_take(organization_id=2) == ([6], ["allocation"])
    assert dropped_take(organization_id=1) == ([5], ["usage"])
