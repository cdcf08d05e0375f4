"""Code file for ``spacy package --code``: registers raredis_llm's factories.

``spacy package training/raredis_llm_ner packages --name raredis_llm --version 0.1.0
--code components/raredis_llm/pipeline/package_code.py`` copies this file into the
pipeline package, whose ``load()`` imports it. The component itself lives in the
``raredis-llm`` distribution, which the package requires (meta.json ``requirements``).
"""

import raredis_llm.pipeline  # noqa: F401
