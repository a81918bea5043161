// The desk page /liaison/ (issue 9): see frontend/templates/frontend/desk/liaison.html.
import "leaflet/dist/leaflet.css";
import "./desk.css";

import { deskStart } from "./shell.js";

deskStart();
