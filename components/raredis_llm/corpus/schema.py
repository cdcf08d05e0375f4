"""Keys and layout of what the converter stores on each ``Doc``.

Every Doc made from RareDis (a whole document or one sentence of it) carries:

``doc.ents``
    The non-overlapping projection of the target entities (policy in ``project.py``).
``doc.spans[SPANS_KEY]``
    Every contiguous entity and every fragment of a discontinuous one, ANAPHOR included,
    overlaps included (span attribute ``id`` = BRAT id, ``kb_id_`` = BRAT id too).
``doc.user_data``
    ``DOC_ID``       the BRAT file stem (str)
    ``SENT_INDEX``   sentence number in the document (int; -1 for a document-level Doc)
    ``CHAR_OFFSET``  where ``doc.text`` starts in the original ``.txt`` (int)
    ``ANNOTATION``   the full, lossless annotation, offsets relative to ``doc.text``:
                     ``{"entities": [{"id", "label", "fragments": [[start, end], ...],
                     "text"}], "relations": [{"id", "type", "arg1", "arg2"}],
                     "projection": {entity_id: reason}}`` where reason says why an
                     entity is not in ``doc.ents`` (absent when it is).

Systems add, per Doc, for the scoring harness to sum up:
    ``PARSE_STATS``  ``{"given": int, "aligned": int, "dropped": {reason: int}}``
    ``LLM_USAGE``    ``{"prompt_tokens": int, "completion_tokens": int, "requests": int,
                     "cache_hits": int}``
    ``PRED_TAGS``    predictions read as IOB tags (``scoring/outside.py``): one tag per
                     token, kept as given so seqeval's default mode sees them unrepaired
"""

DOC_ID = "raredis_doc_id"
SENT_INDEX = "raredis_sent_index"
CHAR_OFFSET = "raredis_char_offset"
ANNOTATION = "raredis_annotation"
SPANS_KEY = "raredis_all"
PARSE_STATS = "raredis_parse"
LLM_USAGE = "raredis_llm_usage"
PRED_TAGS = "raredis_pred_tags"

#: Reasons an annotated entity is not in ``doc.ents``.
REASON_NON_TARGET = "non_target_label"
REASON_DISCONTINUOUS = "discontinuous"
REASON_NESTED = "nested_in_longer"
REASON_CROSSING = "crossing_overlap"
REASON_SAME_SPAN = "same_span_other_type"
