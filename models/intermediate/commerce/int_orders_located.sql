-- Each order with the region and city of its billing address: the buyer's address version valid
-- when the order was placed (a later move does not move the order).
{{ located_at_address(ref('int_orders_converted_to_usd'), ['order_id', 'store_id'], 'placed_at') }}
