-- One row per landed extract, from its manifest record, with its quarantined rows split by
-- reason code (the manifest keys them '<reason>:<field>', or '<reason>' for whole-row reasons).
with source_records as (

    select * from {{ landing_source('manifest') }}

),

renamed as (

    select
        json_extract_string(source_records.json, '$.source') as source,
        left(json_extract_string(source_records.json, '$.sha256'), 16) as extract_id,
        json_extract_string(source_records.json, '$.file') as file_name,
        json_extract_string(source_records.json, '$.status') as status,
        cast(json_extract_string(source_records.json, '$.landed_at') as timestamptz) as landed_at,
        cast(json_extract_string(source_records.json, '$.rows_received') as bigint) as rows_received,
        cast(json_extract_string(source_records.json, '$.rows_landed') as bigint) as rows_landed,
        cast(json_extract_string(source_records.json, '$.rows_quarantined') as bigint) as rows_quarantined,
        cast(json_extract_string(source_records.json, '$.duplicates_dropped') as bigint) as duplicates_dropped,
        cast(json_extract_string(source_records.json, '$.late_rows') as bigint) as late_rows,
        cast(
            json_extract(source_records.json, '$.quarantined_by_reason') as map(varchar, bigint)  -- noqa: LT01
        ) as quarantined_by_reason
    from source_records

),

final as (

    select
        renamed.source,
        renamed.extract_id,
        renamed.file_name,
        renamed.status,
        renamed.landed_at,
        renamed.rows_received,
        renamed.rows_landed,
        renamed.rows_quarantined,
        renamed.duplicates_dropped,
        {%- for code in landing_reason_codes() %}
            cast(coalesce(list_sum([
                reason.value for reason in map_entries(renamed.quarantined_by_reason)
                if split_part(reason.key, ':', 1) = '{{ code }}'
            ]), 0) as {{ dbt.type_bigint() }}) as quarantined_{{ code }},
        {%- endfor %}
        renamed.late_rows
    from renamed

)

select * from final
