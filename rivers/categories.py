"""The categories of problems on rivers (DESIGN §4), shared by patrol findings, focus items and clues.

Seed 002 §三(二) lists the key fields of two-way clue transfer (水资源保护 … 侵占水域) and §三(三) the
patrol focus (污染物排放、渔业生态、行洪安全、河道整洁、侵占岸线、采砂、设障、围垦、捕捞).
The codes are fixed: other tools rely on them.
"""

from django.db import models


class Category(models.TextChoices):
    """DESIGN §4; seed 002 §三(二) lists the key fields (重点领域) of two-way transfer."""

    WATER_RESOURCES = "water_resources", "水资源保护"
    SHORELINE = "shoreline", "水域岸线管理保护"
    WATER_POLLUTION = "water_pollution", "水污染防治"
    WATER_ENVIRONMENT = "water_environment", "水环境治理"
    WATER_ECOLOGY = "water_ecology", "水生态修复"
    ILLEGAL_DISCHARGE = "illegal_discharge", "非法排污"
    OBSTRUCTION = "obstruction", "设障"
    ILLEGAL_FISHING = "illegal_fishing", "非法捕捞"
    ILLEGAL_AQUACULTURE = "illegal_aquaculture", "非法养殖"
    ILLEGAL_SAND_MINING = "illegal_sand_mining", "非法采砂"
    ILLEGAL_MINING = "illegal_mining", "非法采矿"
    ENCROACHMENT = "encroachment", "侵占水域"
    FLOOD_SAFETY = "flood_safety", "行洪安全"
    RIVER_CLEANLINESS = "river_cleanliness", "河道整洁"
    RECLAMATION = "reclamation", "围垦"
    FISHERY_ECOLOGY = "fishery_ecology", "渔业生态"
    OTHER = "other", "其他"
