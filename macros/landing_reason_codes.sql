{#- The quarantine reason codes of orchestration/landing/rules.py (card numbers, the field rules,
    then row, file and batch failures); the data-quality scorecard has one column per code, and
    tests/test_quality_marts.py keeps the two lists equal. -#}
{% macro landing_reason_codes() %}
    {{ return([
        'card_number',
        'missing_required',
        'invalid_type',
        'not_allowed',
        'out_of_range',
        'pattern_mismatch',
        'unparseable_row',
        'line_too_long',
        'unreadable_file',
        'failed_expectations',
    ]) }}
{% endmacro %}
