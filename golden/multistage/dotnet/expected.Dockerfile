FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /source
COPY . .
RUN dotnet publish -c Release -o /app
WORKDIR /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled
COPY --from=build /app /app
WORKDIR /app
EXPOSE 8080
ENTRYPOINT ["dotnet", "/app/Web.dll"]
