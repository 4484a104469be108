select
    store_id,
    name as store_name,
    country,
    time_zone,
    currency,
    opened_at
from {{ ref('stg_oms__stores') }}
