with returns as (

    select * from {{ ref('stg_logistics__returns') }}

),

stores as (

    select * from {{ ref('stg_oms__stores') }}

)

select
    returns.return_id,
    returns.order_id,
    returns.order_item_id,
    returns.store_id,
    returns.requested_at,
    {{ local_date('returns.requested_at', 'stores.time_zone') }} as return_date,
    returns.received_at,
    returns.quantity,
    returns.reason,
    returns.status
from returns
inner join stores
    on returns.store_id = stores.store_id
