"""PayPal: buyer-approved orders (Orders v2) captured on charge. ``client`` is the REST wire layer."""
