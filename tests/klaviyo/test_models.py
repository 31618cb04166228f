"""Models read JSON:API resources as Klaviyo sends them, ignoring fields they do not know."""

from __future__ import annotations

from datetime import UTC, datetime

from joyctl.klaviyo.models import (
    Account,
    Event,
    KlaviyoList,
    Metric,
    Profile,
    ProfileBulkImportJob,
    ProfileImportError,
    Review,
    Webhook,
    WebhookTopic,
)


def test_account() -> None:
    account = Account.model_validate(
        {
            "type": "account",
            "id": "AbC123",
            "attributes": {
                "test_account": True,
                "contact_information": {
                    "organization_name": "Joy Shop",
                    "default_sender_email": "a@example.com",
                    "street_address": {"city": "Boston"},
                },
                "timezone": "US/Eastern",
                "public_api_key": "XyZ789",
                "brand_new_field": {"anything": 1},
            },
            "links": {"self": "https://a.klaviyo.com/api/accounts/AbC123/"},
        }
    )
    assert account.id == "AbC123"
    assert account.organization_name == "Joy Shop"
    assert account.public_api_key == "XyZ789"
    assert account.test_account is True
    assert account.timezone == "US/Eastern"


def test_review_with_rejection_and_product() -> None:
    review = Review.model_validate(
        {
            "type": "review",
            "id": "R1",
            "attributes": {
                "email": "a@example.com",
                "status": {
                    "value": "rejected",
                    "rejection_reason": {"reason": "other", "status_explanation": "spam"},
                },
                "verified": True,
                "review_type": "review",
                "created": "2026-07-20T12:00:00+00:00",
                "updated": "2026-07-21T12:00:00+00:00",
                "images": ["https://img.example.com/1.jpg"],
                "product": {"external_id": "p-1", "name": "Mug", "url": None},
                "rating": 5,
                "author": "Ann",
                "content": "Lovely",
                "title": "Great mug",
                "public_reply": {"content": "Thanks"},
            },
            "relationships": {"events": {"data": [{"type": "event", "id": "E1"}]}},
        }
    )
    assert review.status_value == "rejected"
    assert review.status is not None and review.status.rejection_reason is not None
    assert review.status.rejection_reason.reason == "other"
    assert review.product is not None and review.product.external_id == "p-1"
    assert review.created == datetime(2026, 7, 20, 12, tzinfo=UTC)
    assert review.related_ids("events") == ["E1"]


def test_question_without_rating_and_null_images() -> None:
    review = Review.model_validate(
        {"type": "review", "id": "Q1", "attributes": {"rating": None, "images": None}}
    )
    assert review.rating is None and review.images == [] and review.status is None


def test_webhook_topics_come_from_relationships() -> None:
    webhook = Webhook.model_validate(
        {
            "type": "webhook",
            "id": "W1",
            "attributes": {"name": "n", "endpoint_url": "https://h***", "enabled": False},
            "relationships": {
                "webhook-topics": {
                    "data": [{"type": "webhook-topic", "id": "event:klaviyo.submitted_review"}]
                }
            },
        }
    )
    assert webhook.topic_ids == ["event:klaviyo.submitted_review"]
    assert WebhookTopic.model_validate({"type": "webhook-topic", "id": "t"}).id == "t"


def test_list_profile_metric_event() -> None:
    gold = KlaviyoList.model_validate(
        {"type": "list", "id": "L1", "attributes": {"name": "Gold", "opt_in_process": None}}
    )
    assert gold.name == "Gold"
    profile = Profile.model_validate(
        {
            "type": "profile",
            "id": "P1",
            "attributes": {"email": "a@example.com", "properties": None, "location": {}},
        }
    )
    assert profile.properties == {}
    metric = Metric.model_validate(
        {"type": "metric", "id": "M1", "attributes": {"name": "Loyalty Points Earned"}}
    )
    assert metric.name == "Loyalty Points Earned"
    event = Event.model_validate(
        {
            "type": "event",
            "id": "E1",
            "attributes": {"timestamp": 1, "event_properties": {"points": 5}},
            "relationships": {
                "metric": {"data": {"type": "metric", "id": "M1"}},
                "profile": {"data": {"type": "profile", "id": "P1"}},
            },
        }
    )
    assert (event.metric_id, event.profile_id) == ("M1", "P1")
    assert event.event_properties == {"points": 5}


def test_bulk_import_job_and_errors() -> None:
    job = ProfileBulkImportJob.model_validate(
        {
            "type": "profile-bulk-import-job",
            "id": "J1",
            "attributes": {"status": "complete", "total_count": 3, "failed_count": 1},
        }
    )
    assert job.finished and job.total_count == 3
    error = ProfileImportError.model_validate(
        {
            "type": "import-error",
            "id": "X1",
            "attributes": {
                "code": "invalid",
                "title": "Invalid input",
                "detail": "bad email",
                "source": {"pointer": "/data/attributes/email"},
                "original_payload": {"email": "nope"},
            },
        }
    )
    assert error.pointer == "/data/attributes/email"
