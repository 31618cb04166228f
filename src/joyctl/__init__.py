"""joyctl: administer a Shopify loyalty program and its Klaviyo integration."""

__version__ = "0.1.0"
