"""The call-record API (django-ninja), mounted at /api/v1/ by skypemgr.urls: `v1` holds the API
(authentication, rate limit, errors, endpoints), `schemas` what it reads and answers."""
