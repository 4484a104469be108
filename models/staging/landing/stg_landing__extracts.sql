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
        unnest(map_entries(
            cast(json_extract(source_records.json, '$.counts_by_store') as map(varchar, json))  -- noqa: LT01
        )) as store_counts
    from source_records

),

renamed as (

    select
        json_extract_string(per_store.record, '$.source') as source,
        left(json_extract_string(per_store.record, '$.sha256'), 16) as extract_id,
        per_store.store_counts.key as store_id,
        json_extract_string(per_store.record, '$.file') as file_name,
        json_extract_string(per_store.record, '$.status') as status,
        cast(json_extract_string(per_store.record, '$.landed_at') as timestamptz) as landed_at,
        cast(json_extract_string(per_store.store_counts.value, '$.received') as bigint) as rows_received,
        cast(json_extract_string(per_store.store_counts.value, '$.landed') as bigint) as rows_landed,
        cast(json_extract_string(per_store.store_counts.value, '$.duplicates') as bigint) as duplicates_dropped,
        cast(json_extract_string(per_store.store_counts.value, '$.late') as bigint) as late_rows,
        -- Records written before the suppression list have no such count.
        cast(
            coalesce(json_extract_string(per_store.store_counts.value, '$.erased_subject'), '0') as bigint
        ) as rows_erased_subject,
        cast(
            json_extract(per_store.store_counts.value, '$.quarantined_by_reason') as map(varchar, bigint)  -- noqa: LT01
        ) as quarantined_by_reason
    from per_store

),

final as (

    select
        renamed.source,
        renamed.extract_id,
        renamed.store_id,
        renamed.file_name,
        renamed.status,
        renamed.landed_at,
        renamed.rows_received,
        renamed.rows_landed,
        cast(coalesce(list_sum(map_values(renamed.quarantined_by_reason)), 0) as {{ dbt.type_bigint() }})
            as rows_quarantined,
        renamed.duplicates_dropped,
        {%- for code in landing_reason_codes() %}
            cast(coalesce(list_sum([
                reason.value for reason in map_entries(renamed.quarantined_by_reason)
                if split_part(reason.key, ':', 1) = '{{ code }}'
            ]), 0) as {{ dbt.type_bigint() }}) as quarantined_{{ code }},
        {%- endfor %}
        renamed.late_rows,
        renamed.rows_erased_subject
    from renamed

)

select * from final
