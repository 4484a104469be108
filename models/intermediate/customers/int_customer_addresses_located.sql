-- Each version of a customer's address with the region and city of its postal area, valid from
-- its updated_at to the next version's (the first one also before: a session stitched to the
-- customer before sign-up). Only the low-class area reaches this model, never the address.
-- landed_at tells an incremental model that a version landed after it was built (fct_sessions).
with addresses as (

    select * from {{ ref('stg_crm__customer_addresses') }}

),

areas as (

    select * from {{ ref('stg_logistics__postal_areas') }}

),

versions as (

    select
        store_id,
        customer_id,
        country,
        postal_prefix,
        updated_at,
        landed_at,
        lead(updated_at) over (partition by store_id, customer_id order by updated_at) as valid_to,
        row_number() over (partition by store_id, customer_id order by updated_at) = 1 as is_first
    from addresses

)

select
    versions.store_id,
    versions.customer_id,
    case when not versions.is_first then versions.updated_at end as valid_from,
    versions.valid_to,
    versions.landed_at,
    {{ postal_area_located('areas') | indent(4) }}
from versions
left join areas
    on
        versions.store_id = areas.store_id
        and versions.country = areas.country
        and versions.postal_prefix = areas.postal_prefix
