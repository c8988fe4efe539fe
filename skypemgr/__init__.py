"""SkypeMgr: run a company's communication accounts — members, credit, features, reports."""

from skypemgr.celery import app as celery_app

__all__ = ("celery_app",)
