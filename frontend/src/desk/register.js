// The desk page /clues/new/ (issue 9): registering a clue; see frontend/templates/frontend/desk/register.html.
import "leaflet/dist/leaflet.css";
import "./desk.css";
import "./clue/clue.css";

import { registerStart } from "./clue/register.js";
import { deskStart } from "./shell.js";

deskStart();
registerStart();
