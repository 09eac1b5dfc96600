"""The service's error: an HTTP status, a stable code, and a message in English and Chinese.

Routes and helpers raise ``ServiceError``; ``app.main`` turns it into the JSON body every client
sees: ``{"error": {"code": "...", "message_en": "...", "message_zh": "..."}}``.
"""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    def __init__(self, status: int, code: str, message_en: str, message_zh: str) -> None:
        super().__init__(f"{code}: {message_en}")
        self.status = status
        self.code = code
        self.message_en = message_en
        self.message_zh = message_zh

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "code": self.code,
                "message_en": self.message_en,
                "message_zh": self.message_zh,
            }
        }


def unauthorized(code: str, en: str, zh: str) -> ServiceError:
    return ServiceError(401, code, en, zh)


def forbidden(code: str, en: str, zh: str) -> ServiceError:
    return ServiceError(403, code, en, zh)


def not_found(code: str, en: str, zh: str) -> ServiceError:
    return ServiceError(404, code, en, zh)


def conflict(code: str, en: str, zh: str) -> ServiceError:
    return ServiceError(409, code, en, zh)
