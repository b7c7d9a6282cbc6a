document.getElementById("app").textContent = "Acme Dashboard: " + window.location.pathname;
