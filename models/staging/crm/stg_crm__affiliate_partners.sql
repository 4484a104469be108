with source as (

    select * from {{ raw_source('crm', 'affiliate_partners') }}

),

deduplicated as (

    -- re-exported on change: the row landed last wins
    {{ deduplicate('source', 'store_id, partner_id, valid_from', 'updated_at desc, _landing_order desc') | indent(4) }}

),

renamed as (

    select
        partner_id,
        store_id,
        partner_name,
        utm_source,
        utm_campaign,
        commission_rate,
        valid_from,
        valid_to,
        updated_at,
        _landed_at as landed_at
    from deduplicated

)

select * from renamed
