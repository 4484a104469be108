with source as (

    select * from {{ raw_source('crm', 'consent_logs') }}

),

deduplicated as (

    -- immutable: the first received copy wins
    {{ deduplicate('source', 'consent_event_id', '_landing_order') | indent(4) }}

),

renamed as (

    select
        consent_event_id,
        store_id,
        {{ pseudonymize('anonymous_id') }} as anonymous_id,
        {{ pseudonymize('customer_id') }} as customer_id,
        purpose,
        action,
        consent_text,
        consent_version,
        recorded_at,
        _landed_at as landed_at
    from deduplicated

)

select * from renamed
