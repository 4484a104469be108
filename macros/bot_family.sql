{#- The bot family a user agent declares, from the bot_user_agent_patterns seed, as a CASE
    compiled into the model: staging must classify the user agent before it hashes it, and a
    staging model joins nothing. The seed is a ref, so it is built before the model. -#}
{% macro bot_family(user_agent) %}
    {%- set patterns = ref('bot_user_agent_patterns') -%}
    {%- if not execute -%}
        {{ return('cast(null as ' ~ dbt.type_string() ~ ')') }}
    {%- endif -%}
    {%- if adapter.get_relation(patterns.database, patterns.schema, patterns.identifier) is none -%}
        {{ exceptions.raise_compiler_error("seed bot_user_agent_patterns is not loaded: run `dbt seed` or `dbt build`") }}
    {%- endif -%}
    {%- set rows = run_query('select bot_family, pattern from ' ~ patterns ~ ' order by priority') -%}
    case
    {%- for row in rows %}
        when {{ regex_matches('lower(' ~ user_agent ~ ')', "'" ~ (row[1] | replace("'", "''")) ~ "'") }} then '{{ row[0] }}'
    {%- endfor %}
    end
{% endmacro %}
