window.API_URL='';
