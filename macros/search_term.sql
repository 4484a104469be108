{#- SQL: the normalised search term of a search query: lower case, trimmed, inner whitespace
    collapsed to one space; NULL when nothing is left. int_searches_daily counts searches by it, and
    its pre-hook finds the days left without one. -#}
{% macro search_term(query) -%}
    nullif(lower(trim({{ regex_replace_all(query, "'\\s+'", "' '") }})), '')
{%- endmacro %}
