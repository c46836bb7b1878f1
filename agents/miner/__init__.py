"""The pattern miner's parts: from posts that worked to reusable structures with evidence.

* :mod:`.segmentation` - a post split into units (sentences, list lines);
* :mod:`.labelling` - each unit labelled with a beat kind from cue phrases and features
  (:mod:`.cues`, data in ``data/cues_<lang>.json``; the taxonomy in :mod:`.taxonomy`,
  ``data/taxonomy.json``, documented in ``TAXONOMY.md``);
* :mod:`.signature` - beat sequences as signatures and the weighted edit distance between them;
* :mod:`.clustering` - agglomerative clustering of weighted signatures with a threshold;
* :mod:`.naming`, :mod:`.stats`, :mod:`.templates` - clusters to named templates with
  impression-weighted engagement, merged into existing templates;
* :mod:`.mining` - one mining pass end to end;
* :mod:`.importing` - JSON, JSONL and CSV files of posts, validated;
* :mod:`.lifecycle` - PatternUsage outcomes to template status;
* :mod:`.hooks` - the hook library in Chroma;
* :mod:`.runs` - how a mining run is recorded (AgentRun, EventLog lines);
* :mod:`.service` - imports, mining runs, hook search and usage outcomes against PostgreSQL;
* :mod:`.evaluation` - the adjusted Rand index used to measure clustering.

The engine that exposes them to the runtime is :class:`agents.engines.miner.PatternMiner`.
No Ray here.
"""
