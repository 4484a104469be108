select
    product_id,
    store_id,
    sku,
    name as product_name,
    category,
    brand,
    currency,
    price,
    unit_cost,
    launched_at,
    is_active
from {{ ref('stg_catalog__products') }}
