-- One row per landed extract x store the extract's rows name, from the manifest record's
-- counts_by_store, with the quarantined rows split by reason code (the manifest keys them
-- '<reason>:<field>', or '<reason>' for whole-row reasons). Rows naming no readable store
-- are counted under store_id 'unattributed'.
with source_records as (

    select * from {{ landing_source('manifest') }}

),

per_store as (

    select
        source_records.json as record,
        {{ unnest_map(json_object_map('source_records.json', '$.counts_by_store', 'json'), 'store_id', 'store_counts')
            | indent(8) }}
    from source_records

),

renamed as (

    select
        {{ json_text('per_store.record', '$.source') }} as source,
        left({{ json_text('per_store.record', '$.sha256') }}, 16) as extract_id,
        per_store.store_id,
        {{ json_text('per_store.record', '$.file') }} as file_name,
        {{ json_text('per_store.record', '$.status') }} as status,
        -- Records written before the arrival time was kept have none.
        cast({{ json_text('per_store.record', '$.arrived_at') }} as {{ engine_type('timestamptz') }}) as arrived_at,
        cast({{ json_text('per_store.record', '$.landed_at') }} as {{ engine_type('timestamptz') }}) as landed_at,
        cast({{ json_text('per_store.store_counts', '$.received') }} as bigint) as rows_received,
        cast({{ json_text('per_store.store_counts', '$.landed') }} as bigint) as rows_landed,
        cast({{ json_text('per_store.store_counts', '$.duplicates') }} as bigint) as duplicates_dropped,
        cast({{ json_text('per_store.store_counts', '$.late') }} as bigint) as late_rows,
        -- Records written before the suppression list have no such count.
        cast(
            coalesce({{ json_text('per_store.store_counts', '$.erased_subject') }}, '0') as bigint
        ) as rows_erased_subject,
        {{ json_object_map('per_store.store_counts', '$.quarantined_by_reason', 'bigint') }} as quarantined_by_reason
    from per_store

),

final as (

    select
        renamed.source,
        renamed.extract_id,
        renamed.store_id,
        renamed.file_name,
        -- A replay extract (orchestration/replay.py): quarantined rows landed again, named <source>/replay-<id>.
        renamed.file_name like '%/replay-%' as is_replay,
        renamed.status,
        renamed.arrived_at,
        renamed.landed_at,
        renamed.rows_received,
        renamed.rows_landed,
        cast({{ sum_map_values('renamed.quarantined_by_reason') }} as {{ dbt.type_bigint() }}) as rows_quarantined,
        renamed.duplicates_dropped,
        {%- for code in landing_reason_codes() %}
            cast({{ sum_map_values('renamed.quarantined_by_reason', code) }} as {{ dbt.type_bigint() }})
                as quarantined_{{ code }},
        {%- endfor %}
        renamed.late_rows,
        renamed.rows_erased_subject
    from renamed

)

select * from final
