// The domain's words, through the catalog (DESIGN §4 category codes; chief levels; patrol kinds).
import { t } from "../shared/i18n.js";

export const CATEGORIES = [
  ["water_resources", () => t("水资源保护")],
  ["shoreline", () => t("水域岸线管理保护")],
  ["water_pollution", () => t("水污染防治")],
  ["water_environment", () => t("水环境治理")],
  ["water_ecology", () => t("水生态修复")],
  ["illegal_discharge", () => t("非法排污")],
  ["obstruction", () => t("设障")],
  ["illegal_fishing", () => t("非法捕捞")],
  ["illegal_aquaculture", () => t("非法养殖")],
  ["illegal_sand_mining", () => t("非法采砂")],
  ["illegal_mining", () => t("非法采矿")],
  ["encroachment", () => t("侵占水域")],
  ["flood_safety", () => t("行洪安全")],
  ["river_cleanliness", () => t("河道整洁")],
  ["reclamation", () => t("围垦")],
  ["fishery_ecology", () => t("渔业生态")],
  ["other", () => t("其他")],
];

export function categoryLabel(code) {
  const found = CATEGORIES.find(([c]) => c === code);
  return found ? found[1]() : code;
}

export const KINDS = [
  ["routine", () => t("日常巡查")],
  ["joint", () => t("联合巡查")],
  ["special", () => t("专项巡查")],
];

export const LEVELS = {
  city: () => t("市级河长"),
  district: () => t("区级河长"),
  town: () => t("镇级河长"),
  village: () => t("村级河长"),
};

// High-contrast colours on a light map, one per chief level (legend in the map's corner).
export const LEVEL_COLOURS = { city: "#6a1b9a", district: "#0b4f8a", town: "#1b5e20", village: "#b34700" };

export function reasonWords(reason) {
  return (
    {
      district: t("属地：移送本区检察院"),
      cross_district: t("跨区划河流：报送市检察院，抄送沿线各区检察院"),
      outside_districts: t("不在任何区县内：报送市检察院"),
    }[reason] || reason
  );
}

export function opWords(op) {
  return (
    {
      start: t("开始巡查"),
      finding: t("巡查发现"),
      photo: t("照片"),
      finish: t("结束巡查"),
    }[op.type] || op.type
  );
}
