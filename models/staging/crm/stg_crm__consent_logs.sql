with deduplicated as (

    -- immutable: the first received copy wins (read from the landed table, not a `source` CTE, so
    -- a test's window on recorded_at reaches the scan: see first_landed_copy)
    {{ first_landed_copy(raw_source('crm', 'consent_logs'), 'consent_event_id') | indent(4) }}

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
