select
    order_item_id,
    order_id,
    store_id,
    product_id,
    order_date,
    is_cancelled,
    currency,
    quantity,
    unit_price,
    item_discount,
    line_gmv,
    line_gmv_usd,
    item_discount_usd
from {{ ref('int_order_items_converted_to_usd') }}
