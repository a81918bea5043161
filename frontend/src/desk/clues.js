// The desk page /clues/ (issue 9): see frontend/templates/frontend/desk/clues.html.
import "leaflet/dist/leaflet.css";
import "./desk.css";

import { deskStart } from "./shell.js";

deskStart();
