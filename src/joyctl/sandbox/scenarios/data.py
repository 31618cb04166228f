"""Fixed data the scenarios are built from: the demo store's products, customers and review texts.

Everything here is deterministic so a scenario seeds the same customers and reviews every time.
"""

from __future__ import annotations

from joyctl.sandbox.store.records import JsonObject

STORE_DOMAIN = "joy-demo-store.myshopify.com"

_PRODUCTS: tuple[tuple[str, str, str], ...] = (
    ("8840012001", "Everyday Trail Sock", "everyday-trail-sock"),
    ("8840012002", "Merino Crew Sweater", "merino-crew-sweater"),
    ("8840012003", "Canvas Weekender Bag", "canvas-weekender-bag"),
    ("8840012004", "Ceramic Pour-Over Set", "ceramic-pour-over-set"),
    ("8840012005", "Linen Throw Blanket", "linen-throw-blanket"),
)

CUSTOMER_NAMES: tuple[tuple[str, str], ...] = (
    ("Ava", "Martinez"),
    ("Liam", "Nguyen"),
    ("Sofia", "Okafor"),
    ("Noah", "Schmidt"),
    ("Mia", "Rossi"),
    ("Ethan", "Kowalski"),
    ("Isla", "Haddad"),
    ("Lucas", "Fernandes"),
    ("Chloe", "Dubois"),
    ("Mateo", "Silva"),
    ("Zara", "Patel"),
    ("Oliver", "Jensen"),
    ("Amara", "Mensah"),
    ("Leo", "Yamamoto"),
    ("Nora", "Lindqvist"),
    ("Elijah", "Brooks"),
    ("Hana", "Kim"),
    ("Felix", "Novak"),
    ("Layla", "Rahman"),
    ("Jonas", "Weber"),
    ("Priya", "Iyer"),
    ("Samuel", "Adeyemi"),
    ("Elena", "Popescu"),
    ("Hugo", "Moreau"),
    ("Ingrid", "Olsen"),
    ("Diego", "Ramirez"),
    ("Yara", "Costa"),
    ("Tomas", "Horvat"),
    ("Leila", "Farouk"),
    ("Caleb", "Murphy"),
)

LONG_REVIEW_TEXTS: tuple[str, ...] = (
    "Fits perfectly and has held up through three months of daily wear without any pilling.",
    "The quality is far better than I expected for the price, and shipping was quick too.",
    "I bought this as a gift and ended up ordering a second one for myself the same week.",
    "Soft, warm and the colour matches the photos exactly. Washing it has not shrunk it at all.",
    "Sturdy stitching, roomy inside and the strap is comfortable even when the bag is full.",
    "Makes a noticeably better cup than my old brewer; the ceramic keeps the heat nicely.",
    "Took a star off because delivery was slow, but the product itself is really well made.",
    "Lightweight yet cosy. It has become the first thing I reach for on cold evenings.",
    "Customer service helped me swap sizes within a day, and the replacement fits great.",
    "Looks even nicer in person. The material feels premium and the finish is flawless.",
    "I was unsure about the price at first, but after a month of use it is worth every cent.",
    "Great value: comfortable, durable and it still looks new after a dozen washes.",
)

# Appended to the texts above so that every genuine review reads differently.
REVIEW_ENDINGS: tuple[str, ...] = (
    "Would recommend.",
    "Five stars from me.",
    "Already planning my next order.",
    "Exactly as described.",
)

TOO_SHORT_TEXTS: tuple[str, ...] = ("Love it!", "Great", "ok", "Nice, thanks")

DUPLICATE_REVIEW_TEXT = (
    "Absolutely love this product, it exceeded my expectations and I would buy it again."
)


def product_details(external_id: str) -> JsonObject:
    """Klaviyo's review product block for a Shopify product id; unknown ids get a generic name."""
    for product_id, name, handle in _PRODUCTS:
        if product_id == external_id:
            return {
                "external_id": product_id,
                "name": name,
                "url": f"https://{STORE_DOMAIN}/products/{handle}",
                "image_url": f"https://{STORE_DOMAIN}/cdn/{handle}.jpg",
            }
    return {
        "external_id": external_id,
        "name": f"Product {external_id}",
        "url": f"https://{STORE_DOMAIN}/products/{external_id}",
        "image_url": None,
    }


def product_ids() -> tuple[str, ...]:
    return tuple(product_id for product_id, _, _ in _PRODUCTS)


def tier_for(points: int) -> str:
    if points >= 1500:
        return "Gold"
    if points >= 500:
        return "Silver"
    return "Bronze"
