"""Small typed functions, one per Klaviyo operation joyctl uses, grouped by resource."""
