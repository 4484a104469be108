{#- On-run-start: make the external sources (landed Parquet, landing's manifest) known to the
    engine's catalog. Dispatched. -#}
{% macro declare_external_sources() %}
    {{ return(adapter.dispatch('declare_external_sources', 'commerce_analytics')()) }}
{% endmacro %}

{#- DuckDB reads the files in place (`external_location`); dbt unit tests still look up their
    inputs' column types in the catalog, so each gets an empty, typed view there. -#}
{% macro default__declare_external_sources() %}
    {%- if execute -%}
        {%- for node in graph.sources.values() if node.config.meta.external_location and node.columns -%}
            {%- do run_query('create schema if not exists ' ~ node.schema) -%}
            {%- do run_query('create or replace view ' ~ node.schema ~ '.' ~ node.identifier
                ~ ' as ' ~ empty_typed_relation(node)[1:-1]) -%}
        {%- endfor -%}
    {%- endif -%}
{% endmacro %}

{#- Spark: each landed source is an external Parquet table typed by its contract over the same
    hive layout (raw/<source>/date=YYYY-MM-DD/), its partitions listed from the folders when read
    (profiles.yml turns manageFilesourcePartitions off: no `recover partitions` per run); the
    manifest is a text table of whole JSON files. Re-declared each run, so a contract change
    reaches the catalog; dropping an external table leaves its files alone. -#}
{% macro spark__declare_external_sources() %}
    {%- if execute -%}
        {%- for schema in graph.sources.values() | map(attribute='schema') | unique -%}
            {%- do run_query('create schema if not exists ' ~ schema) -%}
        {%- endfor -%}
        {%- for node in graph.sources.values() if node.config.meta.raw_root -%}
            {%- set columns = [] -%}
            {%- for column in node.columns.values() -%}
                {%- do columns.append(adapter.quote(column.name) ~ ' ' ~ engine_type(column.data_type)) -%}
            {%- endfor -%}
            {%- set table = node.schema ~ '.' ~ node.identifier -%}
            {%- do run_query('drop table if exists ' ~ table) -%}
            {%- do run_query('create table ' ~ table ~ ' (' ~ columns | join(', ') ~ ') using parquet'
                ~ ' partitioned by (`date`)'
                ~ " location '" ~ node.config.meta.raw_root ~ '/' ~ node.name ~ "'") -%}
        {%- endfor -%}
        {%- for node in graph.sources.values() if node.source_name == 'landing' -%}
            {%- set folder = node.config.meta.files.split('/*')[0] -%}
            {%- set files_table = node.schema ~ '.' ~ node.identifier ~ '_files' -%}
            {%- do run_query('drop table if exists ' ~ files_table) -%}
            {%- do run_query('create table ' ~ files_table ~ ' (json string) using text'
                ~ " options (wholetext 'true', recursiveFileLookup 'true', pathGlobFilter '*.json')"
                ~ " location '" ~ folder ~ "'") -%}
            {%- do run_query('create or replace view ' ~ node.schema ~ '.' ~ node.identifier
                ~ ' as select json, input_file_name() as filename from ' ~ files_table) -%}
        {%- endfor -%}
    {%- endif -%}
{% endmacro %}
