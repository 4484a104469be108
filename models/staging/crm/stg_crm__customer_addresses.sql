-- Every version of a customer's address the CRM exported (a row when the account is created,
-- another when the customer moves), reduced to its low-class parts: country and postal area. The
-- history lets an order or a session take the address of its time, so a day's rows never change
-- when the customer later moves (stg_crm__customers keeps the last version only).
with source as (

    select * from {{ raw_source('crm', 'customers') }}

),

deduplicated as (

    -- a version re-sent: the copy landed last wins
    {{ deduplicate('source', 'customer_id, updated_at', '_landing_order desc') | indent(4) }}

),

renamed as (

    select
        {{ pseudonymize('customer_id') }} as customer_id,
        store_id,
        country,
        postal_prefix,
        updated_at,
        _landed_at as landed_at
    from deduplicated

)

select * from renamed
