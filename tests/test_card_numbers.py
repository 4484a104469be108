"""The card-number rule: every real test card number is quarantined, no phone number is."""

from faker import Faker

from orchestration.generator.reference import STORES
from orchestration.landing.land import land_source
from tests.conftest import write_csv

# Published test card numbers of the payment gateways (Stripe, Adyen, Braintree): one or more per scheme.
TEST_CARDS = (
    "4242424242424242",  # Visa
    "4111111111111111",
    "4012888888881881",
    "4000056655665556",  # Visa debit
    "4222222222222",  # Visa, 13 digits
    "5555555555554444",  # Mastercard
    "5105105105105100",
    "5200828282828210",
    "2223003122003222",  # Mastercard, 2-series
    "378282246310005",  # American Express
    "371449635398431",
    "6011111111111117",  # Discover
    "6011000990139424",
    "3056930009020004",  # Diners Club
    "36227206271667",
    "3566002020360505",  # JCB
    "6200000000000005",  # UnionPay
    "6759649826438453",  # Maestro
)
WRITTEN = ("{}", "card {} please refund", "{:4} {:4} {:4} {}", "{:4}-{:4}-{:4}-{}")


def _written(card: str, form: str) -> str:
    if "{:4}" in form:
        return form.format(card[:4], card[4:8], card[8:12], card[12:])
    return form.format(card)


def review(review_id: str, body: str) -> dict:
    return {
        "review_id": review_id,
        "store_id": "us",
        "product_id": "prd-us-0001",
        "customer_id": "cus-1",
        "rating": "4",
        "title": "ok",
        "body": body,
        "created_at": "2026-11-01T10:00:00.000Z",
    }


def generated_phone_numbers() -> list[str]:
    """A thousand phone numbers as the generator draws them (Faker, in each store's locale): half
    from the US store, whose `001-...` numbers have 13 digits and pass Luhn one time in ten."""
    numbers = []
    for k, spec in enumerate(STORES):
        fake = Faker(spec.faker_locale)
        fake.seed_instance(10 + k)
        numbers += [fake.phone_number() for _ in range(500 if spec.store_id == "us" else 100)]
    return numbers


def test_every_real_test_card_number_is_quarantined_however_it_is_written(paths):
    bodies = [_written(card, form) for card in TEST_CARDS for form in WRITTEN]
    write_csv(paths, "reviews", "reviews.csv", [review(f"r{i}", body) for i, body in enumerate(bodies)])
    [record] = land_source(paths, "reviews")
    assert record.quarantined_by_reason.get("card_number:body") == len(bodies) == 72
    assert record.rows_landed == 0


def test_a_thousand_generated_phone_numbers_quarantine_no_customer_nor_review(paths):
    phones = generated_phone_numbers()
    assert len(phones) == 1000 and len(set(phones)) > 950
    customers = [
        {
            "customer_id": f"c{i}",
            "store_id": "us",
            "email": f"c{i}@example.com",
            "phone": phone,
            "country": "US",
            "signup_channel": "web",
            "created_at": "2026-11-01T10:00:00.000Z",
            "updated_at": "2026-11-01T10:00:00.000Z",
        }
        for i, phone in enumerate(phones)
    ]
    write_csv(paths, "customers", "customers.csv", customers)
    # The same numbers in free text, which the card rule does read: none has a card's shape.
    write_csv(paths, "reviews", "reviews.csv", [review(f"r{i}", f"call me on {p}") for i, p in enumerate(phones)])
    [customers_record] = land_source(paths, "customers")
    [reviews_record] = land_source(paths, "reviews")
    assert (customers_record.rows_landed, customers_record.quarantined_by_reason) == (1000, {})
    assert (reviews_record.rows_landed, reviews_record.quarantined_by_reason) == (1000, {})


def test_the_first_text_field_carrying_a_card_is_named_and_no_digit_run_spans_two_fields(paths):
    # The rule pre-filters on all text fields joined, then reads each field on its own: a card in
    # the title is named before one in the body, and halves of a card in two fields are no card.
    rows = [
        {**review("r-both", "card 4000056655665556"), "title": "card 4242424242424242"},
        {**review("r-body", "card 4000056655665556"), "title": "order 1234"},
        {**review("r-split", "4242 4242 arrived broken"), "title": "ok 4242 4242"},
    ]
    # and plain reviews, so that the batch passes its suite's share of quarantined rows
    rows += [review(f"r{i}", "fine") for i in range(48)]
    write_csv(paths, "reviews", "reviews.csv", rows)
    [record] = land_source(paths, "reviews")
    assert record.quarantined_by_reason == {"card_number:title": 1, "card_number:body": 1}
    assert record.rows_landed == 49
