// The desk page /clues/{id}/ (issue 9): see frontend/templates/frontend/desk/clue.html and src/desk/clue/.
import "leaflet/dist/leaflet.css";
import "./desk.css";
import "./clue/clue.css";

import { cluePageStart } from "./clue/page.js";
import { deskStart } from "./shell.js";

const config = deskStart();
cluePageStart(config.clue);
