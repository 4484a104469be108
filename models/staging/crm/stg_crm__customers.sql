-- The only model where high-class personal data (name, email, phone, address) exists in clear;
-- everything downstream reads the pseudonymised customer_id and the low-class fields only.
with source as (

    select * from {{ raw_source('crm', 'customers') }}

),

deduplicated as (

    -- re-exported on change: the row landed last wins
    {{ deduplicate('source', 'customer_id', 'updated_at desc, _landing_order desc') | indent(4) }}

),

renamed as (

    select
        {{ pseudonymize('customer_id') }} as customer_id,
        store_id,
        first_name,
        last_name,
        lower(trim(email)) as email,
        phone,
        address_line,
        city,
        {{ pseudonymize('postal_code') }} as postal_code,
        postal_prefix,
        country,
        signup_channel,
        created_at,
        updated_at,
        _landed_at as landed_at
    from deduplicated

)

select * from renamed
