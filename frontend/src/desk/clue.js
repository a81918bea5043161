// The desk page /clue/ (issue 9): see frontend/templates/frontend/desk/clue.html.
import "leaflet/dist/leaflet.css";
import "./desk.css";

import { deskStart } from "./shell.js";

deskStart();
