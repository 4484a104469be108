{#- Source freshness over a landed source that has no extract yet: report it as never loaded
    (so freshness warns or errors) instead of failing on an empty glob. -#}
{% macro duckdb__collect_freshness(source, loaded_at_field, filter) %}
    {%- if source.external and 'read_parquet(' in source.external -%}
        {%- set pattern = source.external.split("'")[1] -%}
        {%- if run_query("select count(*) from glob('" ~ pattern ~ "')").columns[0].values()[0] == 0 -%}
            {% call statement('collect_freshness', fetch_result=True, auto_begin=False) -%}
                select cast(null as timestamptz) as max_loaded_at, {{ current_timestamp() }} as snapshotted_at
            {%- endcall %}
            {{ return(load_result('collect_freshness')) }}
        {%- endif -%}
    {%- endif -%}
    {{ return(default__collect_freshness(source, loaded_at_field, filter)) }}
{% endmacro %}
