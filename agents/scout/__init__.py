"""The opportunity scout: per-brand OpportunityCards and daily OpportunityBatches from documents.

Modules, one concept each: ``models`` (inputs and results), ``profile`` (a brand's anchor
texts), ``relevance`` (pillar relevance from passage embeddings, calibrated), ``freshness``,
``novelty`` (distance from what the brand already has; story joining), ``competitive``
(named competitors), ``angle`` (extractive angle summary), ``scoring`` (the weighted 0-100
score), ``scout`` (docs to cards for one brand), ``batches`` (one batch per brand and date) and
``lifecycle`` (snooze, pin, dismiss, restore). Nothing here imports Ray.
"""
