"""Code file for ``spacy package --code``.

``spacy package training/raredis_llm_ner packages --name raredis_llm --version 0.1.0
--code components/raredis_llm/pipeline/package_code.py`` copies this file into the
pipeline package, whose ``load()`` imports it. The component itself lives in the
``raredis-llm`` distribution, which the package requires (meta.json ``requirements``), and
its entry points register every factory and function the pipeline's config names, each
imported only when that pipeline uses it; so this file imports nothing: an import here would
load the generative component's modules into every pipeline.
"""
